// Changing or deleting many records from a list: one request per record, each through the
// write pipeline with the version the list showed (a record changed meanwhile is refused,
// never overwritten), a few at a time.
import { api, ApiError, type RecordData } from "@/api";

export interface BulkOutcome {
  done: number;
  refused: { id: number; reason: string }[];
}

const AT_ONCE = 4;

async function eachRecord(records: RecordData[],
                          act: (record: RecordData) => Promise<unknown>): Promise<BulkOutcome> {
  const outcome: BulkOutcome = { done: 0, refused: [] };
  let next = 0;
  async function worker(): Promise<void> {
    while (next < records.length) {
      const record = records[next++];
      try {
        await act(record);
        outcome.done += 1;
      } catch (error) {
        const reason = error instanceof ApiError
          ? [error.problem.detail, ...error.problem.errors.map((item) => item.message)]
            .filter(Boolean).join("；") : String(error);
        outcome.refused.push({ id: record.id, reason });
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, records.length) }, worker));
  return outcome;
}

export function updateEach(app: string, entity: string, records: RecordData[],
                           changes: Record<string, unknown>): Promise<BulkOutcome> {
  return eachRecord(records, (record) => api.updateRecord(app, entity, record.id,
                                                          record.version, changes));
}

export function deleteEach(app: string, entity: string,
                           records: RecordData[]): Promise<BulkOutcome> {
  return eachRecord(records, (record) => api.deleteRecord(app, entity, record.id,
                                                          record.version));
}
