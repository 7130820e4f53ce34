/** The waiting room's page: the position and estimate, kept live by server-sent events; it reloads once admitted. */
export function waitingPage(position: number, waiting: number, estimatedWaitMs: number | undefined): string {
  const wait = estimatedWaitMs === undefined ? '' : `${Math.ceil(estimatedWaitMs / 1000)} s`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Waiting room</title>
<style>body{font:18px system-ui,sans-serif;max-width:32em;margin:4em auto;text-align:center}#position{font-size:4em;font-weight:700}</style>
</head><body>
<h1>You are in line</h1>
<p>Your place: <span id="position" data-testid="position">${position === 0 ? '…' : position}</span></p>
<p><span id="waiting" data-testid="waiting">${waiting}</span> waiting. Estimated wait: <span id="estimate" data-testid="estimate">${wait || 'unknown'}</span></p>
<p>Keep this page open: it lets you in on your turn.</p>
<script>
const url = new URL(location.href); url.searchParams.set('corral-gate', 'events');
const es = new EventSource(url);
es.addEventListener('position', (e) => {
  const p = JSON.parse(e.data);
  document.getElementById('position').textContent = p.position === 0 ? '…' : p.position;
  document.getElementById('waiting').textContent = p.waiting;
  if (p.estimatedWaitMs !== undefined) document.getElementById('estimate').textContent = Math.ceil(p.estimatedWaitMs / 1000) + ' s';
});
es.addEventListener('admitted', () => { es.close(); location.reload(); });
es.addEventListener('expelled', () => { es.close(); location.reload(); });
</script>
</body></html>
`;
}
