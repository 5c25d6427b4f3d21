/** The provider layer's public face: detect the API, parse the request, parse the response. */

export type { Detection } from './detect.js'
export { detectApi } from './detect.js'
export { parseRequest } from './parse-request.js'
export type { ResponseInput } from './parse-response.js'
export { parseResponse } from './parse-response.js'
export type { RequestParseResult } from './provider.js'
export * from './types.js'
