import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NO_EQUIVALENT, PLATFORM_RULES, RULE_CATALOGUE, type RuleDescription } from '../../policy';
import { README_FILE, ruleTable, TABLE_END, TABLE_START, tableIn, withTable } from '../../policy/readme-table';

const readme = readFileSync(README_FILE, 'utf8');

describe('the README rule table', () => {
  it('is exactly the table rendered from the rules (run `npm run docs:policy` after changing a rule)', () => {
    expect(tableIn(readme)).toBe(ruleTable());
  });

  it('sits in the "## Policy as code" section', () => {
    const section = readme.slice(readme.indexOf('## Policy as code\n'));
    const end = section.indexOf('\n## ', 1);
    expect(section.slice(0, end)).toContain(`${TABLE_START}\n${ruleTable()}\n${TABLE_END}`);
  });

  it('has one row per rule of the pack, POL-001 last, in report order', () => {
    const ids = ruleTable()
      .split('\n')
      .slice(2)
      .map((row) => row.split(' | ')[0]?.replace(/^\| /, ''));
    expect(RULE_CATALOGUE.map((r) => r.id)).toEqual([...PLATFORM_RULES.map((r) => r.id), 'POL-001']);
    expect(ids).toEqual(RULE_CATALOGUE.map((r) => r.id));
  });

  it('shows each checker id with its scope, and a dash when the scanner has none', () => {
    const row = (id: string) => ruleTable().split('\n').find((line) => line.startsWith(`| ${id} |`));
    expect(row('ENC-001')).toContain('| CKV_AWS_43, CKV_AWS_185 (customer key) | AVD-AWS-0064 |');
    expect(row('IAM-004')).toMatch(/\| — \| — \|  \|$/);
  });
});

describe('the rules\u2019 checker ids', () => {
  it.each(RULE_CATALOGUE.map((r) => [r.id, r] as const))('%s names well-formed ids, each once', (_, rule) => {
    const { checkov, trivy } = rule.equivalents;
    for (const { id } of checkov) expect(id).toMatch(/^CKV2?_AWS_[1-9]\d*$/);
    for (const { id } of trivy) expect(id).toMatch(/^AVD-AWS-\d{4}$/);
    for (const list of [checkov, trivy]) expect(new Set(list.map((c) => c.id)).size).toBe(list.length);
  });
});

describe('ruleTable', () => {
  const awkward: RuleDescription = {
    id: 'TST-001',
    category: 'policy',
    title: 'Allows `a | b`\nacross lines',
    fix: 'n/a',
    equivalents: { checkov: [{ id: 'CKV_AWS_1', scope: 'x | y', unconfirmed: true }], trivy: [], note: 'one | two' },
  };

  it('keeps each rule on one row: pipes escaped, line breaks joined', () => {
    const rows = ruleTable([awkward]).split('\n');
    expect(rows).toHaveLength(3);
    expect(rows[2]).toBe('| TST-001 | Allows `a \\| b` across lines | CKV_AWS_1 (x \\| y) *(unconfirmed)* | — | one \\| two |');
  });

  it('renders a rule without equivalents as dashes and an empty note', () => {
    expect(ruleTable([{ ...awkward, title: 'Plain', equivalents: NO_EQUIVALENT }]).split('\n')[2]).toBe('| TST-001 | Plain | — | — |  |');
  });
});

describe('withTable', () => {
  const page = ['# Title', '## Policy as code', 'intro', TABLE_START, 'old table', 'old row', TABLE_END, '', '## Next', 'kept'].join('\n');

  it('replaces only the lines between the markers', () => {
    const updated = withTable(page, '| new |');
    expect(updated).toBe(['# Title', '## Policy as code', 'intro', TABLE_START, '| new |', TABLE_END, '', '## Next', 'kept'].join('\n'));
    expect(tableIn(updated)).toBe('| new |');
    expect(withTable(updated, '| new |')).toBe(updated);
  });

  it.each([
    ['a missing start marker', page.replace(TABLE_START, ''), /expected the line .*policy-rules:start.* exactly once, found it 0 times/],
    ['a doubled end marker', `${page}\n${TABLE_END}`, /policy-rules:end --> exactly once, found it 2 times/],
    ['markers in the wrong order', page.replace(TABLE_START, 'X').replace(TABLE_END, TABLE_START).replace('X', TABLE_END), /end marker comes before its start marker/],
  ])('refuses a README with %s', (_, text, message) => {
    expect(() => withTable(text, '| new |')).toThrow(message);
  });
});

describe('docs/policy.md', () => {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'policy.md'), 'utf8');

  it('links to the README table instead of keeping a second copy', () => {
    expect(doc).toContain('(../README.md#policy-as-code)');
    for (const { id } of RULE_CATALOGUE) expect(doc.split('\n').filter((line) => line.startsWith(`| ${id} |`))).toEqual([]);
  });
});
