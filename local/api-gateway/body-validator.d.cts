export type BodyCheck = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

/** Compiles each model's schema once; the result parses a body and checks it against a model. */
export function createBodyValidator(schemas: Readonly<Record<string, object>>): (model: string, text: string) => BodyCheck;
