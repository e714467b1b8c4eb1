/** Why a reading, or a body of readings, is refused: a code for programs and a message for people. */
export type ReadingErrorCode =
  | 'not-json'
  | 'not-object'
  | 'missing-field'
  | 'bad-id'
  | 'bad-timestamp'
  | 'bad-metric-name'
  | 'bad-metric-value'
  | 'no-metrics'
  | 'too-many-metrics'
  | 'bad-body'
  | 'bad-encoding'
  /** Dated further ahead of its arrival on the stream than the consumers tolerate. */
  | 'future-timestamp'
  /** DynamoDB refused to store it (a validation error for its item). */
  | 'store-refused';

export interface ReadingError {
  readonly code: ReadingErrorCode;
  /** The property at fault, when there is one. */
  readonly field?: string;
  /** What is wrong and how to fix it, for a person. */
  readonly message: string;
}

export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ReadingError };

export const readingFailure = (code: ReadingErrorCode, message: string, field?: string): ParseResult<never> => ({
  ok: false,
  error: field === undefined ? { code, message } : { code, field, message },
});

export const describeValue = (value: unknown): string => {
  // Containers are named, not printed: a deeply nested value must not overflow the stack.
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};
