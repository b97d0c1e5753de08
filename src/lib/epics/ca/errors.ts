/**
 * CA error types.
 *
 * - `DecodeError` (from wire/errors): the peer sent bytes that do not parse. A receive loop
 *   counts it and closes the circuit (TCP) or drops the datagram (UDP).
 * - `RemoteProtocolError`: well-formed bytes that break the rules (an unknown SID, a reply for
 *   nothing we asked). Peer's fault.
 * - `LocalProtocolError`: our own code asked for something CA cannot express. Our fault.
 * - `CaStatusError`: an operation completed with an ECA status other than ECA_NORMAL (a put the
 *   server refused, a read it could not convert); carries the code, its name and the text.
 */
import { FieldlinkError } from '../../wire/errors';
import { ecaInfo } from './constants';


export { DecodeError, LocalProtocolError, RemoteProtocolError } from '../../wire/errors';

export class CaStatusError extends FieldlinkError {
  /** ECA status code (e.g. 0xa0 for ECA_PUTFAIL). */
  readonly eca: number;
  /** ECA name, e.g. 'ECA_PUTFAIL'. */
  readonly ecaName: string;
  constructor(eca: number, context?: string, detail?: string) {
    const info = ecaInfo(eca);
    const what = `${info.name}: ${info.text}`;
    super('ECASTATUS', [context, what, detail].filter(Boolean).join(': '));
    this.eca = eca;
    this.ecaName = info.name;
  }
}
