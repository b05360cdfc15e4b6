// The template variables are built by the workflow's renderVars (one function for the
// workflow and `vmbot render`); the render module re-exports it for its public face.
export { renderVars, TASK_NAME, type RenderInput } from '../workflow/render-vars.js';
