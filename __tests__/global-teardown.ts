/** After the last suite: the run fails if the type check started by the global setup did. */
export { finishTypeCheck as default } from './type-check';
