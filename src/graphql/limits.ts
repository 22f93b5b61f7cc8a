import {
  GraphQLError,
  Kind,
  parse,
  specifiedRules,
  validate,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';

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

const tooComplex = (message: string) =>
  new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } } });

/** Depth of the deepest field path, following fragments (cycles are left to graphql-js). */
export function depthLimitRule(maxDepth: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    }
    const depthOf = (set: SelectionSetNode | undefined, depth: number, seen: Set<string>): number => {
      if (!set || depth > maxDepth) return depth;
      let max = depth;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          max = Math.max(max, sel.selectionSet ? depthOf(sel.selectionSet, depth + 1, seen) : depth + 1);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          max = Math.max(max, depthOf(sel.selectionSet, depth, seen));
        } else {
          const name = sel.name.value;
          const frag = fragments.get(name);
          if (frag && !seen.has(name)) max = Math.max(max, depthOf(frag.selectionSet, depth, new Set(seen).add(name)));
        }
        if (max > maxDepth) break;
      }
      return max;
    };
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, 0, new Set());
        if (depth > maxDepth) context.reportError(tooComplex(`Query depth is over the limit of ${maxDepth}`));
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
 * and whatever a field declares with type-graphql's `complexity` option.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined,
): number {
  return getComplexity({
    schema,
    query: document,
    variables: variables ?? {},
    operationName,
    estimators: [
      fieldExtensionsEstimator(),
      ({ args, childComplexity }) => {
        const size = Number(args.first ?? args.last ?? 0);
        return size > 0 ? 1 + childComplexity * Math.min(size, 100) : undefined;
      },
      simpleEstimator({ defaultComplexity: 1 }),
    ],
  });
}

export function costError(cost: number, max: number): GraphQLError | null {
  return cost > max ? tooComplex(`Query cost ${cost} is over the limit of ${max}`) : null;
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
    return { errors: [new GraphQLError(message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })] };
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
