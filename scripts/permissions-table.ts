// Regenerates the permissions table in cfn/README.md from the templates.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { withCurrentTable } from '../test/cfn/permissions-table.js'

const path = join(import.meta.dirname, '..', 'cfn', 'README.md')
writeFileSync(path, withCurrentTable(readFileSync(path, 'utf8')))
console.log(`Updated ${path}`)
