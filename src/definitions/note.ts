/** A line a stage or planner wants a person to read after its script ran; the reporter prints it. */
export interface Note {
  level: 'info' | 'warn';
  message: string;
}
