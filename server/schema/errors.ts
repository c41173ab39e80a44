// Expected errors are data: each mutation's result is a union of its value and these.
import { GraphQLError } from 'graphql';
import { NotFoundError, ValidationError, type FieldError } from '../../core/errors.ts';
import { builder } from './builder.ts';

export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  fields: (t) => ({ message: t.exposeString('message') }),
});

const FieldErrorRef = builder.objectRef<FieldError>('FieldError').implement({
  fields: (t) => ({
    path: t.exposeStringList('path'),
    message: t.exposeString('message'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ValidationError,
  fields: (t) => ({ fieldErrors: t.field({ type: [FieldErrorRef], resolve: (error) => error.fieldErrors }) }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof NotFoundError,
});

export const MAX_PAGE_SIZE = 100;

/** Page size for connections: `first` outside 1..100 is a BAD_USER_INPUT error. */
export function checkedPageSize(args: { first?: number | null; last?: number | null }): number {
  for (const name of ['first', 'last'] as const) {
    const value = args[name];
    if (value != null && (value < 1 || value > MAX_PAGE_SIZE)) {
      throw new GraphQLError(`Argument "${name}" must be between 1 and ${MAX_PAGE_SIZE}; got ${value}`, {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
  }
  return MAX_PAGE_SIZE;
}

/** Options every connection shares: cursor on the UUID, checked page size. */
export const connectionOptions = { cursor: 'id', defaultSize: 20, maxSize: checkedPageSize } as const;
