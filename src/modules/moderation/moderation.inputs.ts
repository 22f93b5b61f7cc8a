import { ArgsType, Field, ID, InputType } from 'type-graphql';
import { ConnectionArgs } from '../../graphql/pagination';
import { ReportReason, ReportStatus } from './report.entity';

@InputType()
export class ReportUserInput {
  @Field(() => ID)
  userId: string;

  @Field(() => ReportReason)
  reason: ReportReason;

  @Field(() => ID, {
    nullable: true,
    description: 'A message the reported account sent in the conversation between the two of you.',
  })
  messageId?: string | null;

  @Field(() => String, { nullable: true, description: 'Up to 1000 characters; no control characters except newline.' })
  details?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Also block the account, in the same transaction.' })
  alsoBlock?: boolean | null;
}

@ArgsType()
export class ReportsArgs extends ConnectionArgs {
  @Field(() => ReportStatus, { nullable: true, defaultValue: ReportStatus.OPEN, description: 'Default OPEN: the queue.' })
  status?: ReportStatus | null;
}
