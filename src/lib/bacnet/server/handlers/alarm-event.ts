/**
 * Alarm and event services as served (ASHRAE 135-2020 Clause 13): AcknowledgeAlarm (13.5) and
 * GetEventInformation (13.12). The summaries come from the intrinsic reporting engine; they are
 * listed by object identifier after Last_Received_Object_Identifier and cut to the requester's
 * response size, More_Events telling whether some were left out.
 */
import { Writer } from '../../../wire/writer';
import {
  type AcknowledgeAlarmRequest, type EventSummary, type GetEventInformationAck, type GetEventInformationRequest,
  encodeGetEventInformationAck,
} from '../../services/alarms-events';
import { objectKey } from '../database';
import type { RequestInfo, ServiceContext } from '../context';

export function acknowledgeAlarm(ctx: ServiceContext, req: AcknowledgeAlarmRequest, info: RequestInfo): void {
  ctx.reporting.acknowledge(req, info.source);
}

function size(summaries: EventSummary[]): number {
  const w = new Writer(256);
  encodeGetEventInformationAck(w, { summaries, moreEvents: false });
  return w.finish().length;
}

export function getEventInformation(ctx: ServiceContext, req: GetEventInformationRequest, info: RequestInfo): GetEventInformationAck {
  let all = ctx.reporting.summaries();
  if (req.lastReceivedObjectId) {
    const after = objectKey(req.lastReceivedObjectId);
    all = all.filter((s) => objectKey(s.objectId) > after);
  }
  const out: EventSummary[] = [];
  let used = size([]);
  for (const s of all) {
    const add = size([s]) - size([]);
    if (used + add > info.maxResponse) break;
    used += add;
    out.push(s);
  }
  return { summaries: out, moreEvents: out.length < all.length };
}
