// Load-time check of a template's Handlebars AST (DESIGN §4: a plain `{{x}}` must not be
// silently unsafe). We refuse, rather than guess a default escape: every output has to
// go through an escaping helper that names its target, `{{hcl x}}`, `{{yaml x}}` or
// `{{json x}}`, so a reader of the template sees how each value is quoted.
import Handlebars from 'handlebars';

/** Helpers that print: each escapes for one target language. */
export const ESCAPING_HELPERS = ['hcl', 'yaml', 'json'] as const;
/** Helpers usable only inside an escaping helper's argument, e.g. `{{hcl (concat a b)}}`. */
export const VALUE_HELPERS = ['concat'] as const;
/** Handlebars' own block helpers; they print only what their blocks print. */
export const BLOCK_HELPERS = ['if', 'unless', 'each', 'with'] as const;

export interface TemplateIssue {
  line: number;
  column: number;
  expression: string;
  message: string;
}

type Node = hbs.AST.Node;

function source(node: hbs.AST.Expression): string {
  switch (node.type) {
    case 'PathExpression':
      return (node as hbs.AST.PathExpression).original;
    case 'StringLiteral':
      return JSON.stringify((node as hbs.AST.StringLiteral).value);
    case 'NumberLiteral':
    case 'BooleanLiteral':
      return String((node as hbs.AST.NumberLiteral).value);
    case 'SubExpression': {
      const sub = node as hbs.AST.SubExpression;
      return `(${[sub.path, ...sub.params].map(source).join(' ')})`;
    }
    default:
      return node.type;
  }
}

function mustacheText(m: hbs.AST.MustacheStatement): string {
  const inner = [m.path, ...m.params].map(source).join(' ');
  return m.escaped ? `{{${inner}}}` : `{{{${inner}}}}`;
}

/** Every place the template prints without an escaping helper, or uses a construct we do not allow. */
export function checkTemplate(text: string): TemplateIssue[] {
  const ast = Handlebars.parse(text);
  const issues: TemplateIssue[] = [];
  const at = (node: Node, expression: string, message: string): void => {
    issues.push({ line: node.loc.start.line, column: node.loc.start.column + 1, expression, message });
  };

  const visitExpression = (node: hbs.AST.Expression): void => {
    if (node.type !== 'SubExpression') return;
    const sub = node as hbs.AST.SubExpression;
    const name = sub.path.original;
    if (!(VALUE_HELPERS as readonly string[]).includes(name)) {
      at(node, source(node), `unknown helper "${name}" in a sub-expression (allowed: ${VALUE_HELPERS.join(', ')})`);
    }
    sub.params.forEach(visitExpression);
  };

  const visitProgram = (program: hbs.AST.Program | undefined): void => {
    for (const statement of program?.body ?? []) {
      switch (statement.type) {
        case 'ContentStatement':
        case 'CommentStatement':
          break;
        case 'MustacheStatement': {
          const m = statement as hbs.AST.MustacheStatement;
          const helper = m.path.type === 'PathExpression' ? (m.path as hbs.AST.PathExpression).original : '';
          if (!m.escaped) {
            at(m, mustacheText(m), `triple-stash output is not allowed: write {{hcl x}}, {{yaml x}} or {{json x}} for the file's language`);
          } else if (!(ESCAPING_HELPERS as readonly string[]).includes(helper) || m.params.length !== 1) {
            at(m, mustacheText(m), `a bare value is not allowed: write {{hcl x}}, {{yaml x}} or {{json x}} for the file's language (one argument)`);
          } else if (m.hash && m.hash.pairs.length > 0) {
            at(m, mustacheText(m), 'escaping helpers take no options');
          }
          m.params.forEach(visitExpression);
          break;
        }
        case 'BlockStatement': {
          const b = statement as hbs.AST.BlockStatement;
          if (!(BLOCK_HELPERS as readonly string[]).includes(b.path.original)) {
            at(b, `{{#${b.path.original}}}`, `unknown block helper "${b.path.original}" (allowed: ${BLOCK_HELPERS.join(', ')})`);
          }
          b.params.forEach(visitExpression);
          visitProgram(b.program);
          visitProgram(b.inverse);
          break;
        }
        default:
          at(statement, statement.type, `${statement.type} is not allowed in vmbot templates (no partials or decorators)`);
      }
    }
  };

  visitProgram(ast);
  return issues;
}
