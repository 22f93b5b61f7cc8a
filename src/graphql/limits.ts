import {
  GraphQLError,
  Kind,
  parse,
  specifiedRules,
  validate,
  visit,
  getOperationAST,
  getVariableValues,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { DEFAULT_PAGE_SIZE } from './pagination';

/**
 * Operation limits, shared by HTTP (Apollo) and WebSocket (graphql-ws): Apollo's
 * validation rules and plugins do not reach graphql-ws, so both paths call these.
 */
export interface OperationLimits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxCost: number;
}

export const LIMIT_CODE = 'QUERY_TOO_COMPLEX';

const tooComplex = (message: string) => new GraphQLError(message, { extensions: { code: LIMIT_CODE, http: { status: 400 } } });

/**
 * Depth of the deepest field path, following fragments. Each fragment's depth is computed
 * once and memoised, so a document that spreads the same fragments many times over (a
 * "fragment bomb": 20 fragments each spreading the next 20 times) costs time linear in
 * its size instead of exponential. Cycles count as 0 here; NoFragmentCyclesRule refuses them.
 */
export function depthLimitRule(maxDepth: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    }
    const fragmentDepth = new Map<string, number>();
    const inProgress = new Set<string>();
    const depthOfFragment = (name: string): number => {
      const known = fragmentDepth.get(name);
      if (known !== undefined) return known;
      const frag = fragments.get(name);
      if (!frag || inProgress.has(name)) return 0;
      inProgress.add(name);
      const depth = depthOf(frag.selectionSet);
      inProgress.delete(name);
      fragmentDepth.set(name, depth);
      return depth;
    };
    const depthOf = (set: SelectionSetNode): number => {
      let max = 0;
      for (const sel of set.selections) {
        const depth =
          sel.kind === Kind.FIELD
            ? // Introspection (__schema, __type) is bounded by the schema itself and needed
              // by every GraphQL tool; it is switched off in production instead.
              1 + (sel.selectionSet && !sel.name.value.startsWith('__') ? depthOf(sel.selectionSet) : 0)
            : sel.kind === Kind.INLINE_FRAGMENT
              ? depthOf(sel.selectionSet)
              : depthOfFragment(sel.name.value);
        if (depth > max) max = depth;
      }
      return max;
    };
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet);
        if (depth > maxDepth) context.reportError(tooComplex(`Query depth ${depth} is over the limit of ${maxDepth}`));
      },
    };
  };
}

export function aliasLimitRule(maxAliases: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    let aliases = 0;
    let reported = false;
    return {
      Field(node) {
        if (node.alias) aliases++;
        if (aliases > maxAliases && !reported) {
          reported = true;
          context.reportError(tooComplex(`Too many aliases (limit ${maxAliases})`));
        }
      },
    };
  };
}

/** Our rules first, so an over-limit document is named as such before anything else. */
export function limitRules(limits: OperationLimits): ValidationRule[] {
  return [depthLimitRule(limits.maxDepth), aliasLimitRule(limits.maxAliases)];
}

/**
 * Cost: every field 1, lists multiplied by their page size (`first`/`last`, default 20),
 * and whatever a field declares with type-graphql's `complexity` option. graphql-query-
 * complexity expands fragments at every spread; `maxQueryNodes` bounds that expansion
 * (it throws past it), so a fragment bomb is refused instead of hanging the process.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined,
  maxQueryNodes = 10_000,
): number {
  return getComplexity({
    schema,
    query: document,
    variables: variables ?? {},
    operationName,
    maxQueryNodes,
    estimators: [
      fieldExtensionsEstimator(),
      ({ args, childComplexity, field }) => {
        // A paged field asked without first/last still returns a default page: count it,
        // or nesting such fields would multiply rows the limit never sees.
        if (!field.args.some((a) => a.name === 'first' || a.name === 'last')) return undefined;
        const asked = Number(args.first ?? args.last ?? DEFAULT_PAGE_SIZE);
        return 1 + childComplexity * Math.min(asked > 0 ? asked : DEFAULT_PAGE_SIZE, 100);
      },
      simpleEstimator({ defaultComplexity: 1 }),
    ],
  });
}

export function costError(cost: number, max: number): GraphQLError | null {
  return cost > max ? tooComplex(`Query cost ${cost} is over the limit of ${max}`) : null;
}

const TOO_MANY_NODES = /maximum allowed number of nodes/;

/**
 * The cost check both paths run after validation and before execution. Returns the error
 * to answer with, or null. Variables that do not fit their types are refused here with
 * BAD_USER_INPUT (execution would refuse them the same way) rather than thrown.
 */
export function checkCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  operationName: string | null | undefined,
  maxCost: number,
): GraphQLError | null {
  // The cost reads only the document and the variables that reach `first`/`last`, and
  // the parsed document is the same object for every request with the same text (both
  // paths cache parsing): a pass is remembered for those values. The variables are still
  // checked against their types on every call, so a bad one is refused here the same way
  // whether or not the document passed before.
  const key = `${operationName ?? ''}\u0000${maxCost}\u0000${JSON.stringify(pageSizeVariables(document).map((n) => variables?.[n] ?? null))}`;
  const passed = passedCostChecks.get(document);
  if (passed?.has(key)) return variableRefusal(schema, document, variables, operationName);
  // Only a pass is remembered: a refusal is a fresh error each time.
  const refusal = computeCostCheck(schema, document, variables, operationName, maxCost);
  if (!refusal) {
    if (!passed) passedCostChecks.set(document, new Set([key]));
    else if (passed.size < MAX_PASSES_PER_DOCUMENT) passed.add(key);
  }
  return refusal;
}

const passedCostChecks = new WeakMap<DocumentNode, Set<string>>();
// Page sizes a client uses are few; any number passes (sizes are capped), so bound it.
const MAX_PASSES_PER_DOCUMENT = 64;
const pageSizeVariablesOf = new WeakMap<DocumentNode, string[]>();

/**
 * The variables whose values reach a `first` or `last` argument: the only ones
 * operationCost reads. (A field `complexity` that read its own arguments would have to
 * be added here.)
 */
function pageSizeVariables(document: DocumentNode): string[] {
  let names = pageSizeVariablesOf.get(document);
  if (!names) {
    const found = new Set<string>();
    visit(document, {
      Argument(node) {
        if (node.name.value === 'first' || node.name.value === 'last') visit(node.value, { Variable: (v) => void found.add(v.name.value) });
      },
    });
    pageSizeVariablesOf.set(document, (names = [...found]));
  }
  return names;
}

/** What graphql-query-complexity would refuse the variables with (their types), if anything. */
function variableRefusal(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  operationName: string | null | undefined,
): GraphQLError | null {
  const definitions = getOperationAST(document, operationName ?? undefined)?.variableDefinitions;
  if (!definitions?.length) return null;
  const { errors } = getVariableValues(schema, definitions, variables ?? {});
  return errors?.length ? badVariables(errors[0].message) : null;
}

const badVariables = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });

function computeCostCheck(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  operationName: string | null | undefined,
  maxCost: number,
): GraphQLError | null {
  try {
    const cost = operationCost(schema, document, variables ?? undefined, operationName ?? undefined, Math.max(10_000, maxCost * 2));
    return costError(cost, maxCost);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (TOO_MANY_NODES.test(message)) return tooComplex(`Query is over the cost limit of ${maxCost} (too many fields once fragments are expanded)`);
    return badVariables(message);
  }
}

const TOO_MANY_TOKENS = /contains more th(?:an|at|en) \d+ tokens/;
// graphql-js (16.15+) stops OverlappingFieldsCanBeMergedRule past a work budget with this
// bare message: a document that is too expensive to validate, i.e. over a limit.
const VALIDATION_ABORTED = 'Validation aborted.';
const SUGGESTION = / ?Did you mean(.+?)\?$/;

type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

/**
 * Wraps the app's formatError so HTTP and WebSocket name limits the same way:
 * - Apollo re-codes every validation-rule error as GRAPHQL_VALIDATION_FAILED; ours keep
 *   QUERY_TOO_COMPLEX (Apollo keeps the rule's error as `originalError`).
 * - graphql-js reports the token limit as a syntax error, and its validation work budget
 *   as "Validation aborted."; both are limits: QUERY_TOO_COMPLEX.
 * - With `hideSuggestions` (production) "Did you mean …?" is cut from every message,
 *   validation and variable coercion alike, so errors do not reveal the schema.
 * - `extensions.http` (a status hint for Apollo) never reaches the client.
 */
export function limitAwareFormatError(base: FormatError, options: { hideSuggestions: boolean }): FormatError {
  return (formatted, error) => {
    let code = formatted.extensions?.code;
    const inner = error instanceof GraphQLError ? error.originalError : undefined;
    if (inner instanceof GraphQLError && inner.extensions?.code === LIMIT_CODE) code = LIMIT_CODE;
    if (code === 'GRAPHQL_PARSE_FAILED' && TOO_MANY_TOKENS.test(formatted.message)) code = LIMIT_CODE;
    let input = code === formatted.extensions?.code ? formatted : { ...formatted, extensions: { ...formatted.extensions, code } };
    if (formatted.message === VALIDATION_ABORTED) {
      input = { message: 'Validation aborted: the operation is too complex to validate', extensions: { code: LIMIT_CODE } };
    }
    const out = base(input, error);
    const { http: _http, ...extensions } = out.extensions ?? {};
    const message = options.hideSuggestions ? out.message.replace(SUGGESTION, '') : out.message;
    return { ...out, message, ...(out.extensions ? { extensions } : {}) };
  };
}

/** The WebSocket path: parse with the token limit, validate with the same rules as HTTP. */
export function parseAndValidate(
  schema: GraphQLSchema,
  query: string,
  limits: OperationLimits,
  extraRules: ValidationRule[] = [],
): { document: DocumentNode } | { errors: GraphQLError[] } {
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: limits.maxTokens });
  } catch (err) {
    const message = err instanceof GraphQLError ? err.message : 'Could not parse the operation';
    const code = TOO_MANY_TOKENS.test(message) ? LIMIT_CODE : 'GRAPHQL_PARSE_FAILED';
    return { errors: [new GraphQLError(message, { extensions: { code } })] };
  }
  const errors = validate(schema, document, [...limitRules(limits), ...specifiedRules, ...extraRules]);
  if (errors.length) {
    return {
      errors: errors.map((e) =>
        e.extensions?.code ? e : new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
      ),
    };
  }
  return { document };
}
