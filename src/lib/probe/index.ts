/** Network probes: ICMP ping (system ping), TCP connect, HTTP(S) phases, DNS; the natrix envelope. */
export { PingRunner, resolvePingOptions, pingArgs, pingOutcome, detectFlavour, PING_ERRORCODE } from './ping';
export type { PingOptions, PingData, PingFailureData, PingOutcome, PingFlavour } from './ping';
export { PingOutputParser, parsePingOutput, classifyPingError } from './ping-parse';
export type { PingReply, PingParse, PingFailureReason } from './ping-parse';
export { rttStats } from './stats';
export type { RttStats } from './stats';
export { tcpPing } from './tcp';
export type { TcpPingOptions, TcpPingData, TcpPingOutcome } from './tcp';
export { httpProbe, parseStatusList, curlCode } from './http';
export type { HttpProbeOptions, HttpData, HttpHop, HttpFailureData, HttpOutcome, TlsDetails, HttpAuth } from './http';
export { dnsProbe, parseServer } from './dns';
export type { DnsProbeOptions, DnsData, DnsOutcome, DnsAnswer } from './dns';
export { encodeQuery, decodeMessage, reverseName, QUERY_TYPES } from './dns-wire';
export type { QueryType, DnsMessage, ResourceRecord } from './dns-wire';
export {
  looksLikeNatrixCommand, parseNatrixCommand, natrixPingParams, natrixHttpParams, natrixDnsParams, natrixEnvelope,
  parseHeaderParam, NATRIX_GENERIC_ERROR,
} from './natrix';
export type { NatrixCommand, NatrixResult, NatrixStamp, NatrixProtocol } from './natrix';
export { parseFamily, validateHost, epochSeconds } from './common';
export type { Family } from './common';
