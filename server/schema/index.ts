// Assembles the schema from one file per entity.
import { builder } from './builder.ts';
import './scalars.ts';
import './errors.ts';
import './webhook-subscription.ts';
import './event.ts';
import './delivery-attempt.ts';
import './stats.ts';

export const schema = builder.toSchema({ sortSchema: true });
