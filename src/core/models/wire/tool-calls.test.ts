import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StepPart } from '../types.js';
import { ToolCallAssembler } from './tool-calls.js';

describe('ToolCallAssembler.flush', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('does no work on a step without tool calls (no copy, sort or clear)', () => {
    const assembler = new ToolCallAssembler();
    const parts: StepPart[] = [];
    const sort = vi.spyOn(Array.prototype, 'sort');
    const clear = vi.spyOn(Map.prototype, 'clear');
    assembler.flush((part) => parts.push(part));
    expect(sort).not.toHaveBeenCalled();
    expect(clear).not.toHaveBeenCalled();
    expect(parts).toEqual([]);
  });

  it('still emits and clears the calls of a step that has some', () => {
    const assembler = new ToolCallAssembler();
    assembler.delta({ index: 0, id: 'a', function: { name: 'list', arguments: '{"path":"."}' } }, 0);
    const parts: StepPart[] = [];
    assembler.flush((part) => parts.push(part));
    assembler.flush((part) => parts.push(part));
    expect(parts).toEqual([{ type: 'tool_call', id: 'a', name: 'list', args: { path: '.' } }]);
  });
});
