// Runs autocannon in its own process so that the load generator does not share the server's event loop.
// Receives { url, connections, durationSeconds, requests } over IPC and answers the summary.
import autocannon from 'autocannon';

process.once('message', ({ url, connections, durationSeconds, requests }) => {
  // Said first, so that the parent counts CPU time from the start of the load, not from sending the templates.
  process.send({ started: true });
  let next = 0;
  autocannon(
    {
      url,
      connections,
      duration: durationSeconds,
      requests: [
        {
          setupRequest(request) {
            const template = requests[next % requests.length];
            next += 1;
            return { ...request, method: template.method, path: template.path, headers: template.headers ?? {}, ...(template.body === undefined ? {} : { body: template.body }) };
          },
        },
      ],
    },
    (error, result) => {
      if (error) throw error;
      process.send(
        {
          requestsPerSecond: result.requests.average,
          p99Ms: result.latency.p99,
          non2xx: result.non2xx,
          errors: result.errors,
          total: result.requests.total,
        },
        () => process.exit(0),
      );
    },
  );
});
