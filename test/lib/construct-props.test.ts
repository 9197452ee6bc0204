import { join } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..');

/** The whole-app types a reusable construct must not need. */
const APP_TYPES = ['ChatConfig', 'Platform'];

/** What the scan reads of node_modules (the rest is read as empty files). */
const NEEDED_DECLARATIONS = ['node_modules/constructs/', 'node_modules/aws-cdk-lib/core/', 'node_modules/aws-cdk-lib/index.d.ts', 'node_modules/typescript/lib/'].map((p) => join(ROOT, p));

interface ConstructSignature {
  readonly name: string;
  readonly file: string;
  /** The app types its constructor's parameters mention (in any prop, Pick<> or union). */
  readonly appTypes: string[];
}

/** Every class under lib/ that extends Construct, read through the type checker (not by matching text). */
function constructSignatures(): { signatures: ConstructSignature[]; unresolvedBases: string[] } {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  const libFiles = config.fileNames.filter((f) => f.startsWith(join(ROOT, 'lib')));
  // The scan follows only declarations in lib/ and base classes up to Construct, so of node_modules
  // it needs constructs, aws-cdk-lib's core (Stack) and TypeScript's default libs (Error); every
  // other package is read as an empty file. The whole graph is 3,700 files and ~11 s of CPU to
  // parse, this one 630 files and ~2.5 s (measured 2026-12-01). A class whose base is in a file
  // read as empty is reported by `unresolvedBases` below instead of being skipped.
  const host = ts.createCompilerHost(config.options);
  const read = host.getSourceFile;
  host.getSourceFile = (file, language, onError, create) =>
    file.includes('/node_modules/') && !NEEDED_DECLARATIONS.some((p) => file.startsWith(p)) ? ts.createSourceFile(file, '', language) : read(file, language, onError, create);
  const program = ts.createProgram(libFiles, config.options, host);
  const checker = program.getTypeChecker();

  const extendsConstruct = (type: ts.Type): boolean =>
    (type.getBaseTypes?.() ?? []).some((base) => {
      const decl = base.getSymbol()?.declarations?.[0];
      return (base.getSymbol()?.getName() === 'Construct' && decl?.getSourceFile().fileName.includes('node_modules/constructs')) || extendsConstruct(base);
    });

  const resolved = (symbol: ts.Symbol | undefined): ts.Symbol | undefined => (symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);

  /** The app types a type node refers to, following prop interfaces declared in lib/ (and what they extend). */
  const appTypesIn = (node: ts.Node, seen: Set<ts.Symbol>): string[] => {
    const found: string[] = [];
    const visit = (n: ts.Node): void => {
      if (ts.isTypeReferenceNode(n) || ts.isExpressionWithTypeArguments(n)) {
        const target = resolved(checker.getSymbolAtLocation(ts.isTypeReferenceNode(n) ? n.typeName : n.expression));
        const decl = target?.declarations?.[0];
        if (target && decl && decl.getSourceFile().fileName.startsWith(join(ROOT, 'lib'))) {
          if (APP_TYPES.includes(target.getName())) found.push(target.getName());
          else if (!seen.has(target) && (ts.isInterfaceDeclaration(decl) || ts.isTypeAliasDeclaration(decl))) {
            seen.add(target);
            found.push(...appTypesIn(decl, seen));
          }
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(node);
    return found;
  };

  const out: ConstructSignature[] = [];
  const unresolvedBases: string[] = [];
  for (const file of program.getSourceFiles().filter((f) => libFiles.includes(f.fileName))) {
    ts.forEachChild(file, (node) => {
      if (!ts.isClassDeclaration(node) || !node.name) return;
      const hasBase = node.heritageClauses?.some((h) => h.token === ts.SyntaxKind.ExtendsKeyword) ?? false;
      if (
        hasBase &&
        !checker
          .getTypeAtLocation(node)
          .getBaseTypes()
          ?.some((b) => b.getSymbol())
      )
        unresolvedBases.push(node.name.text);
      if (!extendsConstruct(checker.getTypeAtLocation(node))) return;
      const ctor = node.members.find(ts.isConstructorDeclaration);
      const appTypes = new Set((ctor?.parameters ?? []).flatMap((p) => (p.type ? appTypesIn(p.type, new Set()) : [])));
      out.push({ name: node.name.text, file: file.fileName.slice(ROOT.length + 1), appTypes: [...appTypes].sort() });
    });
  }
  return { signatures: out, unresolvedBases };
}

describe('construct props', () => {
  const { signatures, unresolvedBases } = constructSignatures();
  const byName = new Map(signatures.map((s) => [s.name, s]));

  it('finds the constructs of lib/ (the scan itself works)', () => {
    expect(byName.get('ChatFargateService')).toEqual({ name: 'ChatFargateService', file: 'lib/constructs/chat-fargate-service.ts', appTypes: [] });
    // The stack takes the config through its props interface (and always will), so the scan would see a regression.
    expect(byName.get('PhenomChatStack')?.appTypes).toEqual(['ChatConfig']);
  });

  it('resolves the base class of every class of lib/ (one outside the declarations it reads would need adding to them)', () => {
    expect(unresolvedBases).toEqual([]);
    // ConfigError extends Error, from TypeScript's default libs: not a construct, but resolved.
    expect(byName.has('ConfigError')).toBe(false);
  });

  it('keeps the stack the only place below which ChatConfig and Platform are mapped to flat props', () => {
    const offenders = signatures.filter((s) => s.name !== 'PhenomChatStack' && s.appTypes.length > 0);
    expect(offenders).toEqual([]);
  });
});
