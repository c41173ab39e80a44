// Expected failures of core operations. The GraphQL layer exposes these as data
// (ValidationError, NotFoundError); REST maps them to 400/413 and 404.

export interface FieldError {
  path: string[];
  message: string;
}

export class ValidationError extends Error {
  constructor(readonly fieldErrors: FieldError[]) {
    super(fieldErrors.map((fieldError) => `${fieldError.path.join('.')}: ${fieldError.message}`).join('; '));
    this.name = 'ValidationError';
  }
}

/** A payload over MAX_PAYLOAD_BYTES: a ValidationError that REST answers with 413. */
export class PayloadTooLargeError extends ValidationError {}

export class NotFoundError extends Error {
  constructor(what: string, id: string) {
    super(`${what} ${id} not found`);
    this.name = 'NotFoundError';
  }
}

/** Collects field problems and throws them together, so a caller sees every one at once. */
export class FieldProblems {
  private readonly problems: FieldError[] = [];
  private tooLarge = false;

  add(path: string[], message: string | null): void {
    if (message !== null) this.problems.push({ path, message });
  }

  addTooLarge(path: string[], message: string): void {
    this.tooLarge = true;
    this.add(path, message);
  }

  throwIfAny(): void {
    if (this.problems.length === 0) return;
    throw this.tooLarge ? new PayloadTooLargeError(this.problems) : new ValidationError(this.problems);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else cannot name a row, so it is simply not found. */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
