import { Field, InputType, ObjectType } from 'type-graphql';
import { DirectMessagePolicy, User } from './user.entity';

@InputType()
export class SignUpInput {
  @Field({ description: '2–24 characters of a-z 0-9 . _ (stored lowercase; unique case-insensitively).' })
  username: string;
  @Field({ description: '8–128 characters.' })
  password: string;
  @Field({ description: '1–50 characters.' })
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
  @Field(() => String, { nullable: true }) displayName?: string | null;
  @Field(() => String, { nullable: true, description: 'https URL, or null to remove the avatar.' })
  avatarUrl?: string | null;
}

@InputType()
export class MessagingSettingsInput {
  @Field(() => DirectMessagePolicy) directMessagePolicy: DirectMessagePolicy;
}

@ObjectType()
export class AuthPayload {
  @Field() token: string;
  @Field(() => User) user: User;
}
