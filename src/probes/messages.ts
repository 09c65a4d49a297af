/** Every text the probe lifecycle sends or hands back to the channel that received a reply. */
export const probeTexts = {
  ask: (firstName: string) => `Are you OK ${firstName}? Reply Y or N.`,
  followUp: (firstName: string) => `${firstName}, we have not heard back from you. Are you OK? Reply Y or N.`,
  notUnderstood: () => 'Reply Y if you are OK or N if you need help.',
  good: (firstName: string) => `Thanks ${firstName}, glad you are OK.`,
  // Sent at once, before any contact is reached: it says only what is true then. Nobody can
  // acknowledge an alert yet, so nothing here ever promises that help is on the way.
  bad: () => 'We are alerting your emergency contacts now.',
  noPendingProbe: () => 'There is no check-in waiting for your answer right now.'
} as const
