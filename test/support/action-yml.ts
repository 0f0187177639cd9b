import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface ActionYml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>
  outputs: Record<string, { description: string }>
  runs: { using: string; main: string }
}

export function readActionYml(): ActionYml {
  return parse(readFileSync(`${REPO_ROOT}action.yml`, 'utf8')) as ActionYml
}
