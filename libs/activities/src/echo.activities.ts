/** Dependencies the activity factory receives from the worker (never imported by workflows). */
export interface EchoDependencies {
  workerName: string;
}

/** The smallest activity set: lets a health probe prove a worker really executes activities. */
export function createEchoActivities(deps: EchoDependencies) {
  return {
    async echo(message: string): Promise<string> {
      return `${message} (via ${deps.workerName})`;
    },
  };
}

export type EchoActivities = ReturnType<typeof createEchoActivities>;
