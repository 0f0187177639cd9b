export { proxyFetch, type Fetch } from './fetch.js'
export { ProxySelectingAgent } from './node-agent.js'
export {
  Bypass,
  describeProxies,
  proxyAddress,
  proxyFor,
  proxyForHost,
  ProxyConfigError,
  proxySettingsFromEnv,
  type Proxy,
  type ProxySettings
} from './settings.js'
