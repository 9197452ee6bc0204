import { join } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..');

/** The whole-app types a reusable construct must not need. */
const APP_TYPES = ['ChatConfig', 'Platform'];

interface ConstructSignature {
  readonly name: string;
  readonly file: string;
  /** The app types its constructor's parameters mention (in any prop, Pick<> or union). */
  readonly appTypes: string[];
}

/** Every class under lib/ that extends Construct, read through the type checker (not by matching text). */
function constructSignatures(): ConstructSignature[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  const libFiles = config.fileNames.filter((f) => f.startsWith(join(ROOT, 'lib')));
  const program = ts.createProgram(libFiles, config.options);
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
  for (const file of program.getSourceFiles().filter((f) => libFiles.includes(f.fileName))) {
    ts.forEachChild(file, (node) => {
      if (!ts.isClassDeclaration(node) || !node.name) return;
      if (!extendsConstruct(checker.getTypeAtLocation(node))) return;
      const ctor = node.members.find(ts.isConstructorDeclaration);
      const appTypes = new Set((ctor?.parameters ?? []).flatMap((p) => (p.type ? appTypesIn(p.type, new Set()) : [])));
      out.push({ name: node.name.text, file: file.fileName.slice(ROOT.length + 1), appTypes: [...appTypes].sort() });
    });
  }
  return out;
}

describe('construct props', () => {
  const signatures = constructSignatures();
  const byName = new Map(signatures.map((s) => [s.name, s]));

  it('finds the constructs of lib/ (the scan itself works)', () => {
    expect(byName.get('ChatFargateService')).toEqual({ name: 'ChatFargateService', file: 'lib/constructs/chat-fargate-service.ts', appTypes: [] });
    // The stack takes the config through its props interface (and always will), so the scan would see a regression.
    expect(byName.get('PhenomChatStack')?.appTypes).toEqual(['ChatConfig']);
  });

  it('keeps the stack the only place below which ChatConfig and Platform are mapped to flat props', () => {
    const offenders = signatures.filter((s) => s.name !== 'PhenomChatStack' && s.appTypes.length > 0);
    expect(offenders).toEqual([]);
  });
});
