import { readdirSync, readFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { join } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from './support/action-yml.js'

interface PackageJson {
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
}

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson

/** The package of a bare specifier: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/')
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/')
}

/**
 * The packages src/ loads at run time: static imports and re-exports, bare `import 'x'`, and
 * `import('x')`. Only `import type` / `export type` are erased (verbatimModuleSyntax keeps
 * `import { type A } from 'x'` as `import {} from 'x'`, so that one counts).
 */
function runtimeImports(): Map<string, string[]> {
  const found = new Map<string, string[]>()
  const add = (specifier: string, file: string) => {
    if (specifier.startsWith('.') || isBuiltin(specifier)) return
    const name = packageOf(specifier)
    found.set(name, [...(found.get(name) ?? []), file])
  }
  const files = readdirSync(join(REPO_ROOT, 'src'), { recursive: true, encoding: 'utf8' })
  for (const file of files.filter(f => f.endsWith('.ts'))) {
    const path = join('src', file)
    const text = readFileSync(join(REPO_ROOT, path), 'utf8')
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, true)
    const visit = (node: ts.Node): void => {
      if (
        ts.isImportDeclaration(node) &&
        !node.importClause?.isTypeOnly &&
        ts.isStringLiteral(node.moduleSpecifier)
      ) {
        add(node.moduleSpecifier.text, path)
      } else if (
        ts.isExportDeclaration(node) &&
        !node.isTypeOnly &&
        node.moduleSpecifier &&
        ts.isStringLiteral(node.moduleSpecifier)
      ) {
        add(node.moduleSpecifier.text, path)
      } else if (
        ts.isCallExpression(node) &&
        node.expression.kind === ts.SyntaxKind.ImportKeyword &&
        node.arguments[0] &&
        ts.isStringLiteralLike(node.arguments[0])
      ) {
        add(node.arguments[0].text, path)
      }
      ts.forEachChild(node, visit)
    }
    visit(source)
  }
  return found
}

describe('package.json', () => {
  const imports = runtimeImports()

  it('finds what src/ imports at run time, and not its type-only imports', () => {
    // Controls for the parser: a runtime import, a subpath import, a type-only import.
    expect(imports.has('@actions/core')).toBe(true)
    expect(imports.has('csv-stringify')).toBe(true)
    expect(imports.has('@smithy/types')).toBe(false)
  })

  it('lists every package src/ imports at run time in dependencies, not devDependencies', () => {
    for (const [name, files] of imports) {
      expect(pkg.dependencies, `${name}, imported by ${files.join(', ')}`).toHaveProperty([name])
      expect(pkg.devDependencies, `${name} twice`).not.toHaveProperty([name])
    }
  })

  it('agrees with the root of package-lock.json', () => {
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, Partial<PackageJson>>
    }
    const root = lock.packages['']
    expect(root?.dependencies).toEqual(pkg.dependencies)
    expect(root?.devDependencies).toEqual(pkg.devDependencies)
  })
})
