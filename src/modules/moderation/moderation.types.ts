import { Field, ID, ObjectType } from 'type-graphql';
import { Message } from '../messages/message.entity';
import { ConnectionType } from '../../graphql/pagination';
import { ReportAction, ReportReason, ReportStatus } from './report.entity';

/**
 * A report as the API shows it. The reporter (who filed it) sees the plain fields; the
 * moderator-only fields (`reporter`, `context`, `resolution`, `resolvedAt`,
 * `countsTowardAutoBan`) are resolved
 * in ModerationResolver and are empty for everyone else. No query returns a report to
 * the reported account.
 */
@ObjectType('Report', { description: 'A report of an account, optionally about one of its messages.' })
export class ReportView {
  @Field(() => ID)
  id: string;

  @Field(() => ReportReason)
  reason: ReportReason;

  @Field(() => ReportStatus)
  status: ReportStatus;

  @Field(() => String, { nullable: true })
  details: string | null;

  @Field()
  createdAt: Date;

  @Field(() => Message, { nullable: true, description: 'The reported message, if the report names one.' })
  message: Message | null;

  reporterId: string;
  reportedId: string;
  resolution: ReportAction | null;
  resolvedAt: Date | null;
  countsTowardAutoBan: boolean;
  /** The reported message and its neighbours by seq; loaded for moderator reads only. */
  context?: Message[];
}

export const ReportConnection = ConnectionType(ReportView, 'Report');
