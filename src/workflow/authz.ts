// Who is who (DESIGN §4). Whether an actor is an admin is a port (WorkflowPorts.isAdmin,
// built from the chat platforms' rules in src/config/platforms.ts) that the workflow asks on
// every call; chat adapters only report who pressed the button and which groups/roles they hold.
import type { MemberRef } from '../domain/request.js';

/** Members are identified per platform: the same user id on another platform is someone else. */
export function sameMember(a: MemberRef, b: MemberRef): boolean {
  return a.platform === b.platform && a.userId === b.userId;
}

export function describeMember(member: MemberRef): string {
  return member.displayName ? `${member.displayName} (${member.platform} ${member.userId})` : `${member.platform} user ${member.userId}`;
}
