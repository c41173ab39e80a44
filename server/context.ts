import type { Services } from '../core/services.ts';
import type { Subscriber } from '../core/pubsub.ts';

/** What every resolver gets: the shared services and the live-update subscriber. */
export interface Context {
  services: Services;
  subscriber: Subscriber;
}
