import { Logger } from '@aws-lambda-powertools/logger';

/** One structured logger for every function; each log line names the service it came from. */
export const logger = new Logger({ serviceName: 'hangar' });
