/**
 * `npm run bursar -- <command>`: operator commands against the configured database (DATABASE_URL or the data
 * folder), as a Bursar process without HTTP. `billing-run --as-of <ISO date>` runs a billing run with a progress bar:
 * the same run and job as POST /admin/billing-runs (it shows in GET /admin/billing-runs), worked by this process
 * unless a server's worker takes it first, in which case the bar follows that worker's progress.
 */
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { createApp } from './app.js';
import { executeBillingRun } from './billing/invoices/execute-billing-run.js';
import type { BillingRun } from './billing/invoices/billing-run.js';
import { ConfigError, loadConfig } from './config.js';
import { DataDirectoryInUseError } from './db/data-directory-lock.js';
import { BillingError } from './errors.js';
import { createLogger } from './logger.js';

const usage = 'usage: npm run bursar -- billing-run --as-of <ISO date-time>   (closes the last month that ended before it)';

function summary(run: BillingRun): string {
  return [
    `Billing run ${run.id} ${run.status}: period ${run.period.start.toISOString()} to ${run.period.end.toISOString()}`,
    `  organizations: ${run.organizationsTotal}, invoiced: ${run.invoicesCreated}, ` +
      `skipped: ${run.invoicesExisting + run.organizationsWithoutCharges} (already invoiced ${run.invoicesExisting}, nothing to bill ${run.organizationsWithoutCharges}), ` +
      `failed: ${run.organizationsFailed}`,
    ...(run.error ? [`  error: ${run.error}`] : []),
  ].join('\n');
}

async function billingRun(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'as-of': { type: 'string' } }, strict: true });
  const asOf = values['as-of'] === undefined ? null : new Date(values['as-of']);
  if (asOf === null || Number.isNaN(asOf.getTime())) {
    console.error(usage);
    return 2;
  }
  const config = loadConfig();
  // Logs go to stderr at warn and above unless LOG_LEVEL says otherwise: stdout is the bar and the summary.
  const app = await createApp(config, {
    startWorkers: false,
    logger: createLogger(process.env.LOG_LEVEL ?? 'warn'),
    announce: (message) => console.error(message),
  });
  const bar = new cliProgress.SingleBar(
    { format: 'Billing run [{bar}] {percentage}% | {value}/{total} organizations | invoiced {invoiced}', hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let barStarted = false;
  try {
    const run = await executeBillingRun(app.context, { actor: { type: 'operator' }, surface: 'cli', requestId: null }, {
      asOf,
      onProgress: (progress) => {
        if (!barStarted) {
          bar.start(progress.organizationsTotal, progress.organizationsSeen, { invoiced: progress.invoicesCreated });
          barStarted = true;
        } else bar.update(progress.organizationsSeen, { invoiced: progress.invoicesCreated });
      },
    });
    bar.stop();
    console.log(summary(run));
    return run.status === 'completed' ? 0 : 1;
  } catch (error) {
    if (barStarted) bar.stop();
    if (error instanceof BillingError) {
      console.error(error.message.replace(/\basOf\b/g, '--as-of'));
      return 2;
    }
    throw error;
  } finally {
    await app.close();
  }
}

const [command, ...rest] = process.argv.slice(2);
try {
  if (command === 'billing-run') process.exitCode = await billingRun(rest);
  else {
    console.error(usage);
    process.exitCode = 2;
  }
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`);
    process.exitCode = 2;
  } else if (error instanceof DataDirectoryInUseError) {
    console.error(error.message);
    process.exitCode = 1;
  } else if (error instanceof TypeError && (error as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    console.error(`${error.message}\n${usage}`);
    process.exitCode = 2;
  } else throw error;
}
