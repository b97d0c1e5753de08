/**
 * SubscribeCOV (ASHRAE 135-2020 Clause 13.14) and SubscribeCOVProperty (Clause 13.15) as served:
 * both optional parameters absent cancels (13.14.1.1.4; cancelling an unknown subscription
 * succeeds); otherwise the subscription is added or replaced (server/cov.ts) and its initial
 * notification follows the SimpleACK. Errors: object / unknown-object; object /
 * optional-functionality-not-supported for objects without COV reporting; property /
 * unknown-property and property / not-cov-property for SubscribeCOVProperty; resources /
 * no-space-to-add-list-element when the subscription table is full.
 */
import { isCancellation, type SubscribeCovPropertyRequest, type SubscribeCovRequest } from '../../services/subscribe-cov';
import { Errors } from '../../objects/errors';
import type { RequestInfo, ServiceContext } from '../context';

export function subscribeCov(ctx: ServiceContext, req: SubscribeCovRequest, info: RequestInfo): void {
  const o = ctx.db.get(req.monitoredObjectId);
  if (!o) throw Errors.unknownObject();
  if (isCancellation(req)) {
    ctx.cov.cancel({ subscriber: info.source, processId: req.subscriberProcessId, object: o });
    return;
  }
  ctx.cov.subscribe({
    subscriber: info.source,
    processId: req.subscriberProcessId,
    object: o,
    confirmed: req.issueConfirmedNotifications === true,
    lifetime: req.lifetime ?? 0,
  });
}

export function subscribeCovProperty(ctx: ServiceContext, req: SubscribeCovPropertyRequest, info: RequestInfo): void {
  const o = ctx.db.get(req.monitoredObjectId);
  if (!o) throw Errors.unknownObject();
  const base = {
    subscriber: info.source,
    processId: req.subscriberProcessId,
    object: o,
    propertyId: req.monitoredProperty.propertyId,
    ...(req.monitoredProperty.arrayIndex !== undefined ? { arrayIndex: req.monitoredProperty.arrayIndex } : {}),
  };
  if (isCancellation(req)) {
    ctx.cov.cancel(base);
    return;
  }
  ctx.cov.subscribe({
    ...base,
    confirmed: req.issueConfirmedNotifications === true,
    lifetime: req.lifetime ?? 0,
    ...(req.covIncrement !== undefined ? { covIncrement: req.covIncrement } : {}),
  });
}
