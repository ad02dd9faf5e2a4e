/** Placeholder: this instruction class is being implemented. */
export {};
