import { composeHangar } from '../../shared/config/composition.ts';
import { tableFromEnvironment } from '../../shared/db/db.ts';

/** What the WebSocket route functions use: the table alone (answers go back as the route's response). */
export const composeWebSocket = () => composeHangar({ db: tableFromEnvironment() });
