import {
  Pair,
  Scalar,
  YAMLMap,
  parseDocument,
  type CollectionTag,
  type ScalarTag,
  type YAMLSeq
} from 'yaml'

/** A template that is not valid YAML, or not a CloudFormation template (a mapping). */
export class TemplateParseError extends Error {
  override name = 'TemplateParseError'
}

/** Short-form intrinsic functions, written `!Name`, stored as `{ "Fn::Name": … }`. */
const FUNCTIONS = [
  'And',
  'Base64',
  'Cidr',
  'Equals',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'If',
  'ImportValue',
  'Join',
  'Not',
  'Or',
  'Select',
  'Split',
  'Sub'
] as const

/** The long form CloudFormation stores for a short-form tag (`!Ref` → `Ref`, `!If` → `Fn::If`). */
function longName(tag: string): string {
  return tag === 'Ref' || tag === 'Condition' ? tag : `Fn::${tag}`
}

function scalarTag(name: string): ScalarTag {
  return {
    tag: `!${name}`,
    // `!GetAtt Resource.Attribute` is short for `Fn::GetAtt: [Resource, Attribute]`.
    resolve: (value: string) => {
      if (name !== 'GetAtt') return { [longName(name)]: value }
      const dot = value.indexOf('.')
      return { 'Fn::GetAtt': dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] }
    }
  }
}

function collectionTag(name: string, collection: 'map' | 'seq'): CollectionTag {
  return {
    tag: `!${name}`,
    collection,
    // Wrap the parsed collection in a one-key mapping, so nested tags and anchors resolve as usual.
    resolve: (value: YAMLMap.Parsed | YAMLSeq.Parsed) => {
      const wrapper = new YAMLMap()
      wrapper.items.push(new Pair(new Scalar(longName(name)), value))
      return wrapper
    }
  }
}

/** Custom tags for the `yaml` parser: every CloudFormation short form, as scalar, sequence or map. */
export const CLOUDFORMATION_TAGS: (ScalarTag | CollectionTag)[] = [
  scalarTag('Ref'),
  scalarTag('Condition'),
  ...FUNCTIONS.flatMap(name => [
    scalarTag(name),
    collectionTag(name, 'seq'),
    collectionTag(name, 'map')
  ])
]

/**
 * Parses a CloudFormation template (YAML with short-form tags, or JSON) into plain data in the
 * long form (`{ "Fn::Sub": … }`), as CloudFormation itself reads it.
 */
export function parseCloudFormation(body: string): Record<string, unknown> {
  const document = parseDocument(body, { customTags: CLOUDFORMATION_TAGS, prettyErrors: false })
  const [error] = document.errors
  if (error) throw new TemplateParseError(`The template is not valid YAML: ${error.message}`)
  const template: unknown = document.toJS({ maxAliasCount: 100 })
  if (template === null || typeof template !== 'object' || Array.isArray(template)) {
    throw new TemplateParseError('The template is not a mapping of sections.')
  }
  return template as Record<string, unknown>
}
