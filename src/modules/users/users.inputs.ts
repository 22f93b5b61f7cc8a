import { Field, InputType, ObjectType } from 'type-graphql';
import { DirectMessagePolicy, User } from './user.entity';

@InputType()
export class SignUpInput {
  @Field({ description: '2–24 characters of a-z 0-9 . _ (stored lowercase; unique case-insensitively).' })
  username: string;
  @Field({ description: '8–128 characters.' })
  password: string;
  @Field({ description: '1–50 characters; no control characters, no bidi overrides or isolates (U+202A–U+202E, U+2066–U+2069).' })
  displayName: string;
  @Field({ description: 'YYYY-MM-DD; the account must be 13 or older. Never shown to anyone else.' })
  birthDate: string;
}

@InputType()
export class LogInInput {
  @Field() username: string;
  @Field() password: string;
}

@InputType()
export class ChangePasswordInput {
  @Field() currentPassword: string;
  @Field({ description: '8–128 characters.' })
  newPassword: string;
}

@InputType()
export class UpdateProfileInput {
  @Field(() => String, { nullable: true, description: 'As in SignUpInput.' }) displayName?: string | null;
  @Field(() => String, { nullable: true, description: 'https URL, or null to remove the avatar.' })
  avatarUrl?: string | null;
}

@InputType({ description: 'Each setting left out (or null) stays as it is.' })
export class MessagingSettingsInput {
  @Field(() => DirectMessagePolicy, { nullable: true }) directMessagePolicy?: DirectMessagePolicy | null;
  @Field(() => Boolean, { nullable: true, description: 'Hidden words\' built-in option: requests with a common offensive term go to hidden requests. Unchanged when omitted.' })
  hideOffensiveRequests?: boolean | null;
  @Field(() => Boolean, {
    nullable: true,
    description: 'Off: the account neither sends SEEN receipts nor sees them on its own messages (they stay SENT to it).',
  })
  readReceipts?: boolean | null;
}

@ObjectType()
export class AuthPayload {
  @Field() token: string;
  @Field(() => User) user: User;
}
