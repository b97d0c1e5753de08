/**
 * Every BACnet enumeration Fieldlink names (ASHRAE 135-2020 Clause 21), one import away.
 * See enum.ts for the lookup rules shared by all of them.
 */
export * from './enum';
export * from './object-type';
export * from './property-identifier';
export * from './engineering-units';
export * from './errors';
export * from './services';
export * from './states';
