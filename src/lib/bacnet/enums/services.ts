/**
 * Service choices (ASHRAE 135-2020 Clause 21: BACnetConfirmedServiceChoice,
 * BACnetUnconfirmedServiceChoice) and the bit positions of BACnetServicesSupported (the
 * Protocol_Services_Supported property of the Device object, 12.11.17).
 *
 * Names are the standard's service names in lower-case hyphenated form ('read-property',
 * 'who-is'); 'ReadProperty', 'readProperty' and 'READ_PROPERTY' are accepted too.
 */
import { defineEnum } from './enum';

export const ConfirmedServiceChoice = defineEnum(
  'confirmed service',
  {
    'acknowledge-alarm': 0,
    'confirmed-cov-notification': 1,
    'confirmed-event-notification': 2,
    'get-alarm-summary': 3,
    'get-enrollment-summary': 4,
    'subscribe-cov': 5,
    'atomic-read-file': 6,
    'atomic-write-file': 7,
    'add-list-element': 8,
    'remove-list-element': 9,
    'create-object': 10,
    'delete-object': 11,
    'read-property': 12,
    'read-property-conditional': 13,
    'read-property-multiple': 14,
    'write-property': 15,
    'write-property-multiple': 16,
    'device-communication-control': 17,
    'confirmed-private-transfer': 18,
    'confirmed-text-message': 19,
    'reinitialize-device': 20,
    'vt-open': 21,
    'vt-close': 22,
    'vt-data': 23,
    authenticate: 24,
    'request-key': 25,
    'read-range': 26,
    'life-safety-operation': 27,
    'subscribe-cov-property': 28,
    'get-event-information': 29,
    'subscribe-cov-property-multiple': 30,
    'confirmed-cov-notification-multiple': 31,
    'confirmed-audit-notification': 32,
    'audit-log-query': 33,
    'auth-request': 34,
  },
  { rp: 'read-property', rpm: 'read-property-multiple', wp: 'write-property', wpm: 'write-property-multiple', dcc: 'device-communication-control' },
  255,
);

export const UnconfirmedServiceChoice = defineEnum(
  'unconfirmed service',
  {
    'i-am': 0,
    'i-have': 1,
    'unconfirmed-cov-notification': 2,
    'unconfirmed-event-notification': 3,
    'unconfirmed-private-transfer': 4,
    'unconfirmed-text-message': 5,
    'time-synchronization': 6,
    'who-has': 7,
    'who-is': 8,
    'utc-time-synchronization': 9,
    'write-group': 10,
    'unconfirmed-cov-notification-multiple': 11,
    'unconfirmed-audit-notification': 12,
    'who-am-i': 13,
    'you-are': 14,
  },
  {},
  255,
);

/** Bit positions of BACnetServicesSupported. */
export const ServicesSupported = defineEnum(
  'services-supported bit',
  {
    'acknowledge-alarm': 0,
    'confirmed-cov-notification': 1,
    'confirmed-event-notification': 2,
    'get-alarm-summary': 3,
    'get-enrollment-summary': 4,
    'subscribe-cov': 5,
    'atomic-read-file': 6,
    'atomic-write-file': 7,
    'add-list-element': 8,
    'remove-list-element': 9,
    'create-object': 10,
    'delete-object': 11,
    'read-property': 12,
    'read-property-conditional': 13,
    'read-property-multiple': 14,
    'write-property': 15,
    'write-property-multiple': 16,
    'device-communication-control': 17,
    'confirmed-private-transfer': 18,
    'confirmed-text-message': 19,
    'reinitialize-device': 20,
    'vt-open': 21,
    'vt-close': 22,
    'vt-data': 23,
    authenticate: 24,
    'request-key': 25,
    'i-am': 26,
    'i-have': 27,
    'unconfirmed-cov-notification': 28,
    'unconfirmed-event-notification': 29,
    'unconfirmed-private-transfer': 30,
    'unconfirmed-text-message': 31,
    'time-synchronization': 32,
    'who-has': 33,
    'who-is': 34,
    'read-range': 35,
    'utc-time-synchronization': 36,
    'life-safety-operation': 37,
    'subscribe-cov-property': 38,
    'get-event-information': 39,
    'write-group': 40,
    'subscribe-cov-property-multiple': 41,
    'confirmed-cov-notification-multiple': 42,
    'unconfirmed-cov-notification-multiple': 43,
    'confirmed-audit-notification': 44,
    'audit-log-query': 45,
    'unconfirmed-audit-notification': 46,
    'who-am-i': 47,
    'you-are': 48,
    'auth-request': 49,
  },
  {},
  255,
);

/** Number of bits a Protocol_Services_Supported bit string carries at protocol revision 24+. */
export const SERVICES_SUPPORTED_BITS = 50;

/** Bit position in Protocol_Services_Supported of a confirmed service choice. */
export function confirmedServiceBit(choice: number): number | undefined {
  const name = ConfirmedServiceChoice.nameOf(choice);
  return name === undefined ? undefined : ServicesSupported.lookup(name);
}

/** Bit position in Protocol_Services_Supported of an unconfirmed service choice. */
export function unconfirmedServiceBit(choice: number): number | undefined {
  const name = UnconfirmedServiceChoice.nameOf(choice);
  return name === undefined ? undefined : ServicesSupported.lookup(name);
}
