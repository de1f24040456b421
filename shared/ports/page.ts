/** One page of a list. `cursor` is opaque: hand it back unchanged for the next page; null at the end. */
export interface Page<T> {
  items: T[];
  cursor: string | null;
}

/** What a caller asks of a paged list. A cursor the list did not hand out is a ValidationError. */
export interface PageRequest {
  limit: number;
  cursor?: string;
}
