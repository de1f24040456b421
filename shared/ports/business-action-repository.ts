import type { BusinessAction, BusinessActionFilter } from '../domain/business-actions.ts';
import type { Page, PageRequest } from './page.ts';

/**
 * The business-action log, read side. Actions are written by the repositories that make the
 * changes, inside the same transaction (an optional `action` on their writes).
 */
export interface BusinessActionRepository {
  /** Newest first; one client's through its partition, all clients' through the time-ordered index. */
  list(filter: BusinessActionFilter, page: PageRequest): Promise<Page<BusinessAction>>;
}
