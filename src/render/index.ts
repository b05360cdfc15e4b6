// The render module's public face: load the templates once, render pure text.
export { loadRenderer, TEMPLATE_FILES } from './renderer.js';
export { renderVars, TASK_NAME, type RenderInput } from './vars.js';
export { hcl, yaml, json, hclString, yamlString, jsonString } from './escape.js';
export { checkTemplate, type TemplateIssue } from './check.js';
export type { Renderer, RenderVars, RenderedVm } from './types.js';
