import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { AccountAgeBucket as AccountAge } from './account-age';
import type { HiddenReason as Reason } from './hidden-reason';

// String enums whose values are the pure rules' own strings, so no mapping sits between them.
export enum AccountAgeBucket {
  NEW = 'NEW',
  LESS_THAN_A_MONTH = 'LESS_THAN_A_MONTH',
  LESS_THAN_A_YEAR = 'LESS_THAN_A_YEAR',
  OVER_A_YEAR = 'OVER_A_YEAR',
}
registerEnumType(AccountAgeBucket, {
  name: 'AccountAgeBucket',
  description: 'How old the sender’s account is now. NEW: younger than NEW_ACCOUNT_HOURS (72 h by default).',
  valuesConfig: {
    LESS_THAN_A_MONTH: { description: 'Not NEW, under 30 days.' },
    LESS_THAN_A_YEAR: { description: '30 days to under 365 days.' },
    OVER_A_YEAR: { description: '365 days or more.' },
  },
});

export enum HiddenReason {
  NEW_ACCOUNT = 'NEW_ACCOUNT',
  LINK = 'LINK',
  HIDDEN_WORD = 'HIDDEN_WORD',
}
registerEnumType(HiddenReason, {
  name: 'HiddenReason',
  description: 'Why a request went to hidden requests, decided when it was sent (the first that applied, in this order).',
  valuesConfig: {
    NEW_ACCOUNT: { description: 'The sender’s account was younger than NEW_ACCOUNT_HOURS.' },
    LINK: { description: 'The text contains a link.' },
    HIDDEN_WORD: { description: 'The text matches one of the recipient’s hidden words.' },
  },
});

@ObjectType({ description: '"Why am I seeing this": what a recipient may know about a request’s sender. Only the recipient gets it.' })
export class RequestContext {
  @Field(() => AccountAgeBucket) senderAccountAge: AccountAgeBucket;
  @Field({ description: 'The sender follows the viewer.' }) senderFollowsYou: boolean;
  @Field(() => Int, { description: 'Accounts the viewer follows that follow the sender ("followed by people you follow").' })
  mutualFollowCount: number;
  @Field(() => HiddenReason, { nullable: true, description: 'Why the request is in hidden requests; null when it is not hidden.' })
  hiddenReason: HiddenReason | null;
}

export const toAccountAgeBucket = (b: AccountAge) => AccountAgeBucket[b];
export const toHiddenReason = (r: Reason | null) => (r === null ? null : HiddenReason[r]);
