/** The pure core of the convoy: event contract, order record, decider and resequencing. */
export * from './events';
export * from './orderRecord';
export * from './order';
export * from './convoy';
export * from './inbound';
export * from './recordBudget';
