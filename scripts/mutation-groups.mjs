// The mutation check's groups (npm run mutate): each a set of modules that carry
// a promise of the README, and the in-process specs that defend them. A group's
// mutants run only its specs, so a module-level mutant (which no per-test
// coverage can narrow) costs one group's specs, not all of them.
// The end-to-end specs drive dist/ through bin/paasmaker: no mutant reaches them.
export const MUTATION_GROUPS = [
  {
    name: 'keeper',
    what: 'the keeper and reaping: nothing outlives Paasmaker; a recycled pid is never touched',
    mutate: ['src/supervisor/keeper.ts', 'src/supervisor/proc.ts'],
    specs: ['test/supervisor/reaping.spec.ts'],
  },
  {
    name: 'api',
    what: "the API's guard: foreign Origin and Host, credentials, permissions, CSRF",
    mutate: ['src/api/guard.ts', 'src/api/server.ts:162-179'],
    specs: ['test/api/guard.spec.ts'],
  },
  {
    name: 'secrets',
    what: 'service passwords and state.db readable by their owner only',
    mutate: ['src/services/names.ts:41-61', 'src/state/database.ts:81-100'],
    specs: ['test/services/names.spec.ts', 'test/state/state.spec.ts'],
  },
  {
    name: 'rolling',
    what: 'rolling updates: no process stops before its successor is ready and its requests have finished',
    mutate: ['src/engine/rolling.ts:32-49', 'src/engine/rolling.ts:141-181'],
    // platform.spec.ts reloads once too, but killed no mutant rolling.spec.ts did not (run of 30 November): left out, it only made each mutant slower.
    specs: ['test/engine/rolling.spec.ts'],
  },
  {
    name: 'router',
    what: "the router's framing, forwarded headers, holding during restarts, traffic counting",
    // http1.ts: the header fields, how a body is framed (Content-Length, Transfer-Encoding), the request head, where a body ends.
    mutate: ['src/proxy/http1.ts:83-97', 'src/proxy/http1.ts:132-161', 'src/proxy/http1.ts:226-265', 'src/proxy/http1.ts:434-463', 'src/proxy/headers.ts', 'src/proxy/router.ts:303-313', 'src/proxy/router.ts:343-380', 'src/proxy/router.ts:401-405', 'src/proxy/router.ts:440-484', 'src/proxy/traffic.ts'],
    specs: ['test/proxy/http1.spec.ts', 'test/proxy/headers.spec.ts', 'test/proxy/traffic.spec.ts', 'test/proxy/router.spec.ts', 'test/proxy/router-protocol.spec.ts', 'test/proxy/router-hardening.spec.ts', 'test/proxy/router-holding.spec.ts', 'test/proxy/smuggling.spec.ts'],
  },
];

/** The group MUTATE_GROUP names (the first when unset). */
export function mutationGroup(name = process.env.MUTATE_GROUP) {
  const group = name === undefined ? MUTATION_GROUPS[0] : MUTATION_GROUPS.find((candidate) => candidate.name === name);
  if (!group) throw new Error(`no mutation group "${name}"; the groups: ${MUTATION_GROUPS.map((candidate) => candidate.name).join(', ')}`);
  return group;
}
