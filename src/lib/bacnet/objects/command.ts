/**
 * Command prioritization (ASHRAE 135-2020 Clause 19.2): the 16-slot Priority_Array of a
 * commandable property, Relinquish_Default, and the present value they resolve to.
 *
 *  - A write with priority p (1 highest .. 16 lowest, default 16) puts the value in slot p; a
 *    NULL relinquishes the slot (19.2.2).
 *  - The present value is the value of the highest-priority non-NULL slot, or Relinquish_Default
 *    when every slot is NULL (19.2.1); Current_Command_Priority is that slot's number, or NULL.
 *  - Priority 6 is reserved for the minimum on/off algorithm of binary outputs (19.2.3): while a
 *    minimum time runs, the new state is held in slot 6 and released when the time is over.
 */
import { type BacnetValue, valueEqual } from '../codec/values';

export const PRIORITY_LEVELS = 16;
/** The slot used by the minimum on/off time algorithm (19.2.3). */
export const MINIMUM_ON_OFF_PRIORITY = 6;
/** Priority of a write that gives none (19.2.1). */
export const DEFAULT_WRITE_PRIORITY = 16;

export interface Effective {
  value: BacnetValue;
  /** 1..16, or undefined when Relinquish_Default is in effect. */
  priority?: number;
}

export class PriorityArray {
  readonly #slots: Array<BacnetValue | null> = new Array<BacnetValue | null>(PRIORITY_LEVELS).fill(null);
  relinquishDefault: BacnetValue;

  constructor(relinquishDefault: BacnetValue) {
    this.relinquishDefault = relinquishDefault;
  }

  /** Slot `priority` (1..16): the value, or null when relinquished. */
  slot(priority: number): BacnetValue | null {
    return this.#slots[priority - 1] ?? null;
  }

  /** Write (value) or relinquish (null) slot `priority`. Returns true when the slot changed. */
  command(priority: number, value: BacnetValue | null): boolean {
    if (!Number.isInteger(priority) || priority < 1 || priority > PRIORITY_LEVELS) throw new RangeError(`priority ${priority} outside 1..16`);
    const v = value && value.type === 'null' ? null : value;
    const old = this.#slots[priority - 1] ?? null;
    if (old === null && v === null) return false;
    if (old !== null && v !== null && valueEqual(old, v)) return false;
    this.#slots[priority - 1] = v;
    return true;
  }

  /** The value in effect and the slot it comes from. */
  effective(): Effective {
    for (let i = 0; i < PRIORITY_LEVELS; i++) {
      const v = this.#slots[i];
      if (v) return { value: v, priority: i + 1 };
    }
    return { value: this.relinquishDefault };
  }

  /** The 16 slots as the Priority_Array property (NULL for relinquished slots). */
  toValues(): BacnetValue[] {
    return this.#slots.map((v) => v ?? { type: 'null' as const });
  }

  /** Slots as [priority, value] for the commanded ones only (for persistence and messages). */
  commanded(): Array<[number, BacnetValue]> {
    const out: Array<[number, BacnetValue]> = [];
    this.#slots.forEach((v, i) => {
      if (v) out.push([i + 1, v]);
    });
    return out;
  }
}
