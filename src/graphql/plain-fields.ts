/**
 * ObjectType options for the types every send and live delivery answers with (Message,
 * MessageEvent, User): their plain fields are read by graphql-js's own default resolver,
 * not through type-graphql's wrapper, which allocates a resolver-data object and a closure
 * per field of every result only to run middlewares and auth rules. None of our fields has
 * either (middlewares sit on mutations); a field with a @FieldResolver keeps it as before.
 */
export const plainFields = { simpleResolvers: true } as const;
