import { type BusinessAction, type BusinessActionFilter, matchesFilter, type NewBusinessAction } from '../../domain/business-actions.ts';
import { materializeAction } from '../../db/business-actions.ts';
import type { BusinessActionRepository } from '../../ports/business-action-repository.ts';
import type { Page, PageRequest } from '../../ports/page.ts';
import { copy, pageOf, sortedBy } from './memory-page.ts';

/**
 * The business-action log in memory. The memory repositories append to it inside the same
 * synchronous step as the change they record, which is what the DynamoDB transaction gives.
 */
export class MemoryBusinessActionRepository implements BusinessActionRepository {
  private readonly log: BusinessAction[] = [];

  append(action: NewBusinessAction | undefined, defaultAt: string): void {
    if (action) this.log.push(copy(materializeAction(action, defaultAt)));
  }

  async list(filter: BusinessActionFilter, page: PageRequest): Promise<Page<BusinessAction>> {
    const matching = sortedBy(
      this.log.filter((a) => matchesFilter(a, filter)),
      (a) => a.actionId,
      'desc',
    );
    const result = pageOf(`actions/${filter.clientId ?? '*'}`, matching, (a) => a.actionId, page, 'desc');
    return { items: result.items.map(copy), cursor: result.cursor };
  }
}
