import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** A file or function longer than its limit, named the way a reader would look for it. */
export interface Oversize {
  /** `path:line` of the file or of the function's first line. */
  where: string;
  /** The function's name (`Class.method`, `const name = () =>`); the file's own entry has none. */
  name?: string;
  lines: number;
}

export interface SizeLimits {
  fileLines: number;
  functionLines: number;
}

type FunctionLike =
  | ts.FunctionDeclaration
  | ts.MethodDeclaration
  | ts.ArrowFunction
  | ts.FunctionExpression
  | ts.ConstructorDeclaration
  | ts.AccessorDeclaration;

function isFunctionLike(node: ts.Node): node is FunctionLike {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isAccessor(node)
  );
}

function propertyName(name: ts.PropertyName | ts.BindingName, source: ts.SourceFile): string {
  return ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name)
    ? name.text
    : name.getText(source);
}

/** The named class, or the object literal assigned to a variable, that a declaration sits in. */
function ownerName(declaration: ts.Node, source: ts.SourceFile): string | undefined {
  const owner = declaration.parent;
  if (ts.isClassLike(owner)) return owner.name?.text;
  if (ts.isObjectLiteralExpression(owner) && ts.isVariableDeclaration(owner.parent))
    return propertyName(owner.parent.name, source);
  return undefined;
}

/** `Owner.name` when the declaration has an owner (see `ownerName`), else `name`. */
function qualified(name: string, declaration: ts.Node, source: ts.SourceFile): string {
  const owner = ownerName(declaration, source);
  return owner ? `${owner}.${name}` : name;
}

/**
 * The name a reader would search for: `Class.method`, `Class.constructor`, `get Class.x`, the variable
 * or property a function is assigned to, or the call a callback is passed to.
 */
function functionName(node: FunctionLike, source: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return qualified('constructor', node, source);
  if (ts.isGetAccessor(node)) return `get ${qualified(propertyName(node.name, source), node, source)}`;
  if (ts.isSetAccessor(node)) return `set ${qualified(propertyName(node.name, source), node, source)}`;
  if (node.name) return qualified(propertyName(node.name, source), node, source);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    return qualified(propertyName(parent.name, source), parent, source);
  if (ts.isCallExpression(parent)) return `<callback to ${parent.expression.getText(source).slice(0, 60)}>`;
  return '<anonymous>';
}

/** 1-based line of a position. */
function lineOf(source: ts.SourceFile, position: number): number {
  return source.getLineAndCharacterOfPosition(position).line + 1;
}

/**
 * The file itself when it has more than `fileLines` lines, and every function-like node spanning more
 * than `functionLines` lines, from its first token (doc comments excluded) to its closing line. Nested
 * functions are measured on their own too: a long callback is named even inside a long method.
 */
export function oversizeIn(file: string, text: string, limits: SizeLimits): Oversize[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: Oversize[] = [];
  const fileLines = lineOf(source, text.replace(/\n$/, '').length);
  if (fileLines > limits.fileLines) found.push({ where: `${file}:1`, lines: fileLines });
  const visit = (node: ts.Node) => {
    if (isFunctionLike(node)) {
      const first = lineOf(source, node.getStart(source));
      const lines = lineOf(source, node.getEnd()) - first + 1;
      if (lines > limits.functionLines)
        found.push({ where: `${file}:${first}`, name: functionName(node, source), lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * Every `.ts` source under `dir`: specs and integration specs left out, test support and `testing/`
 * folders counted (code people read and change too).
 */
export function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist'].includes(entry.name)) continue;
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(file, out);
    else if (
      entry.name.endsWith('.ts') &&
      !/\.(spec|int-spec)\.ts$/.test(entry.name) &&
      !entry.name.endsWith('.d.ts')
    )
      out.push(file);
  }
  return out.sort();
}

/** Oversize files and functions in the given directories, paths relative to `root`. */
export function oversizeUnder(root: string, dirs: string[], limits: SizeLimits): Oversize[] {
  return dirs.flatMap((dir) =>
    sourceFiles(path.join(root, dir)).flatMap((file) =>
      oversizeIn(path.relative(root, file), readFileSync(file, 'utf8'), limits),
    ),
  );
}

export function describeOversize({ where, name, lines }: Oversize): string {
  return name ? `${where} ${name}: ${lines} lines` : `${where} file: ${lines} lines`;
}
