/**
 * Session ids as JSON strings (`JSON.stringify(sessionId)`), for live frames that splice the id into
 * payload text they already hold. Most commits carry one event, so serialising the id per commit would
 * cost about what the splice saves; one process-wide table serves every transport and every subscriber
 * of a session (one string, not one per subscription). Ids are kept until there are many (sessions come
 * and go), then all dropped.
 */
const sessionJsons = new Map<string, string>();
const SESSION_JSONS = 10_000;

export function sessionJsonOf(sessionId: string): string {
  let json = sessionJsons.get(sessionId);
  if (json === undefined) {
    if (sessionJsons.size >= SESSION_JSONS) sessionJsons.clear();
    sessionJsons.set(sessionId, (json = JSON.stringify(sessionId)));
  }
  return json;
}
