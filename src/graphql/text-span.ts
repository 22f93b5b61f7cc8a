import { Field, Int, ObjectType } from 'type-graphql';

/** A range of a text field, as JavaScript's `String.prototype.slice` takes it. */
@ObjectType({ description: 'A range of a text: UTF-16 code units from `start` (inclusive) to `end` (exclusive), as String.slice in JavaScript.' })
export class TextSpan {
  @Field(() => Int) start: number;
  @Field(() => Int) end: number;
}
