import { asObject, isTrue } from '../model';
import { STATEFUL_RESOURCE_TYPES } from '../stateful-resources';
import { finding, NO_EQUIVALENT, rule } from './rule';

export const preventDestroy = rule({
  id: 'DATA-001',
  category: 'data',
  title: `Every resource that holds data (${STATEFUL_RESOURCE_TYPES.map((entry) => entry.kind).join(', ')}) has \`lifecycle.prevent_destroy\`, so a plan that would destroy or replace it fails`,
  fix: 'Create it in a PlatformStack, whose prevent-destroy hook sets it (stacks/prevent-destroy.ts), or set `lifecycle: { preventDestroy: true }` on the resource.',
  equivalents: {
    ...NO_EQUIVALENT,
    note: 'Lifted for all of them at once by the `allowDestroy` setting, for a deliberate teardown; synth then lists each as suppressed.',
  },
  check: (model) =>
    STATEFUL_RESOURCE_TYPES.flatMap(({ type, kind, loses }) =>
      model
        .resources(type)
        .filter((resource) => !isTrue(asObject(resource.config['lifecycle'])['prevent_destroy']))
        .map((resource) => finding(resource, `${kind} without lifecycle.prevent_destroy: a plan may destroy it and lose ${loses}`)),
    ),
});

export const PREVENT_DESTROY_RULES = [preventDestroy] as const;
