import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The permissions the package README documents: the ```text blocks under "## ACL", the first for a
 * single server or Sentinel, the second for a Cluster. The README is the contract the ACL tests hold it to.
 */
export function documentedAclRules(topology: 'server' | 'cluster'): string[] {
  const readme = readFileSync(join(__dirname, '../../../packages/redis/README.md'), 'utf8');
  const start = readme.indexOf('## ACL');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const blocks = [...section.matchAll(/```text\n(.+)\n```/g)].map((match) => match[1]!.trim().split(/\s+/));
  const rules = blocks[topology === 'server' ? 0 : 1];
  if (rules === undefined) throw new Error(`packages/redis/README.md: no ${topology} \`\`\`text block under "## ACL"`);
  return rules;
}
